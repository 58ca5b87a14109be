// The drawing widget's browser side (anywidget ESM): a canvas that records strokes, and the
// readings the kernel sends back. No imports: nothing is fetched at run time.

const SEND_EVERY_MS = 250; // while the pen moves: at most four readings a second

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label, title, onClick) {
  const b = el("button", "dw-button", label);
  b.type = "button";
  b.title = title;
  b.addEventListener("click", onClick);
  return b;
}

// One 28×28 input, drawn as the notebooks show images: ink dark on white.
function inputCanvas(pixels) {
  const c = el("canvas", "dw-input");
  c.width = 28;
  c.height = 28;
  const ctx = c.getContext("2d");
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = 255 - pixels[i];
    img.data[4 * i] = v;
    img.data[4 * i + 1] = v;
    img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

function bars(probs, label) {
  const box = el("div", "dw-bars");
  probs.forEach((p, d) => {
    const col = el("div", "dw-bar-col");
    col.title = `${d}: ${(100 * p).toFixed(1)}%`;
    const track = el("div", "dw-bar-track");
    const bar = el("div", d === label ? "dw-bar dw-bar-top" : "dw-bar");
    bar.style.height = `${Math.max(1, Math.round(100 * p))}%`;
    track.appendChild(bar);
    col.appendChild(track);
    col.appendChild(el("div", "dw-bar-label", String(d)));
    box.appendChild(col);
  });
  return box;
}

function modelPanel(m) {
  const panel = el("div", `dw-model dw-${m.state}`);
  panel.dataset.model = m.name;
  panel.appendChild(el("div", "dw-model-name", m.name));
  const answer = el("div", "dw-answer", m.text || "–");
  answer.dataset.state = m.state;
  panel.appendChild(answer);
  const note = m.state === "unsure" ? "unsure" : m.digits.map((d) => `${Math.round(100 * d.probability)}%`).join(" ");
  panel.appendChild(el("div", "dw-model-note", note));
  const digits = el("div", "dw-digits");
  for (const d of m.digits.slice(0, 6)) {
    const cell = el("div", d.low_confidence ? "dw-digit dw-low" : "dw-digit");
    cell.appendChild(inputCanvas(d.input));
    cell.appendChild(bars(d.probs, d.label));
    digits.appendChild(cell);
  }
  if (m.digits.length > 6) digits.appendChild(el("div", "dw-more", `+${m.digits.length - 6}`));
  panel.appendChild(digits);
  return panel;
}

function render({ model, el: root }) {
  root.classList.add("dw-root");
  const left = el("div", "dw-left");
  const canvas = el("canvas", "dw-canvas");
  canvas.width = model.get("width");
  canvas.height = model.get("height");
  const ctx = canvas.getContext("2d");
  let strokes = (model.get("strokes") || []).map((s) => s.map((p) => [p[0], p[1]]));
  let current = null;
  let timer = null;
  let lastSent = 0;

  function paint() {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = "#000";
    ctx.fillStyle = "#000";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = model.get("brush");
    for (const s of strokes) {
      if (s.length === 1) {
        ctx.beginPath();
        ctx.arc(s[0][0], s[0][1], ctx.lineWidth / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(s[0][0], s[0][1]);
      for (const p of s.slice(1)) ctx.lineTo(p[0], p[1]);
      ctx.stroke();
    }
  }

  function send() {
    clearTimeout(timer);
    timer = null;
    lastSent = Date.now();
    const version = model.get("version") + 1;
    root.dataset.sent = String(version); // the reading of these strokes will carry this number
    model.set("version", version);
    model.set("strokes", strokes.map((s) => s.map((p) => [Math.round(p[0] * 10) / 10, Math.round(p[1] * 10) / 10])));
    model.save_changes();
  }

  function sendSoon() {
    // Throttled while drawing: a reading at most every SEND_EVERY_MS.
    if (timer) return;
    timer = setTimeout(send, Math.max(0, SEND_EVERY_MS - (Date.now() - lastSent)));
  }

  function point(ev) {
    const r = canvas.getBoundingClientRect();
    return [(ev.clientX - r.left) * (canvas.width / r.width), (ev.clientY - r.top) * (canvas.height / r.height)];
  }

  canvas.addEventListener("pointerdown", (ev) => {
    ev.preventDefault();
    canvas.setPointerCapture(ev.pointerId);
    current = [point(ev)];
    strokes.push(current);
    paint();
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!current) return;
    current.push(point(ev));
    paint();
    sendSoon();
  });
  const end = () => {
    if (!current) return;
    current = null;
    send(); // the pen lifted: read now
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  const tools = el("div", "dw-tools");
  const brushLabel = el("label", "dw-brush", "brush ");
  const brush = el("input");
  brush.type = "range";
  brush.min = "4";
  brush.max = "40";
  brush.value = String(model.get("brush"));
  brush.addEventListener("change", () => {
    model.set("brush", Number(brush.value));
    model.save_changes();
    paint();
  });
  brushLabel.appendChild(brush);
  const undo = button("Undo", "Remove the last stroke", () => {
    strokes.pop();
    paint();
    send();
  });
  const clear = button("Clear", "Start again on an empty canvas", () => {
    strokes = [];
    paint();
    send();
  });
  const label = el("input", "dw-label");
  label.placeholder = "label, e.g. 7";
  label.size = 8;
  const keep = button("Keep this drawing", "Save it as a PNG with its label in data/external/", () => {
    model.send({ event: "keep", label: label.value });
  });
  tools.append(brushLabel, undo, clear, label, keep);
  const status = el("div", "dw-status", model.get("status"));
  left.append(canvas, tools, status);

  const right = el("div", "dw-right");
  const verdict = el("div", "dw-verdict");
  const panels = el("div", "dw-models");
  right.append(verdict, panels);

  function showReading() {
    const r = model.get("reading") || {};
    verdict.textContent = r.message || "";
    verdict.dataset.state = r.state || "";
    panels.replaceChildren(...(r.models || []).map(modelPanel));
    root.dataset.readingMs = r.ms === undefined ? "" : String(r.ms);
    root.dataset.read = String(r.version === undefined ? "" : r.version);
  }

  function fromKernel() {
    // Strokes set from Python (or another view of this widget) replace the local ones.
    if (current) return;
    strokes = (model.get("strokes") || []).map((s) => s.map((p) => [p[0], p[1]]));
    paint();
  }

  const onReading = () => showReading();
  const onStatus = () => { status.textContent = model.get("status"); };
  const onBrush = () => { brush.value = String(model.get("brush")); paint(); };
  model.on("change:reading", onReading);
  model.on("change:status", onStatus);
  model.on("change:strokes", fromKernel);
  model.on("change:brush", onBrush);
  root.append(left, right);
  paint();
  showReading();
  return () => {
    clearTimeout(timer);
    model.off("change:reading", onReading);
    model.off("change:status", onStatus);
    model.off("change:strokes", fromKernel);
    model.off("change:brush", onBrush);
  };
}

export default { render };
