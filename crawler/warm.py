"""Imported once by the extraction pool's forkserver, before it forks any worker.

The language model takes ~0.5 s to load (0.9 s on a busy machine): loaded here, it is
in every worker from its first moment, one copy shared copy-on-write, instead of loaded
by each worker while the first pages of a crawl wait.
"""

from monitor.extract import load_models

load_models()
