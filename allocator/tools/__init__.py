"""Tools beside the layers: synthetic national instances (``generate``), OR-Library
benchmark files as instances (``orlib``), and the generated documentation (``docs``). They
may use every layer below the command line; nothing in the layers imports them."""
