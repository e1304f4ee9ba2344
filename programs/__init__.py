"""Programs run on the embedded AWS through the deployment harness: ``python -m programs.demo``
(``make demo``) and ``python -m programs.bench`` (``make bench``). Development only."""
