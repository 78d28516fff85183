"""The web chat: `python app.py [--host ...] [--port ...]`, the same as `ragcomm serve`
(ragcomm/serve/ holds the app; `python app.py --help` lists the options)."""
import sys

from ragcomm.serve import main

if __name__ == "__main__":
    sys.exit(main())
