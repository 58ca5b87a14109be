import sys

from helpers.cli import main

# The guard matters: `photo.find_batch` starts worker processes that import this module again.
if __name__ == "__main__":
    sys.exit(main())
