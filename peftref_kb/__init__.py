"""peftref-kb: the reference knowledge base and executable catalogue of PEFT methods.

``load_catalogue()`` is torch-free; ``instantiate()`` imports torch lazily.
Attributes are imported on first use so that ``peftref query`` starts fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Catalogue", "CatalogueError", "load_catalogue", "instantiate", "load_adapter", "__version__"]


def __getattr__(name: str):
    if name in ("Catalogue", "CatalogueError", "load_catalogue"):
        from . import store

        return getattr(store, name)
    raise AttributeError(f"module 'peftref_kb' has no attribute {name!r}")


def instantiate(method, model, at=None, **hyperparameters):
    """Inject ``method`` (an id or record) into ``model``; see :mod:`peftref_kb.reference`."""
    from .reference.inject import instantiate as _instantiate

    return _instantiate(method, model, at=at, **hyperparameters)


def load_adapter(model, directory, at=None, **hyperparameters):
    """Re-apply an adapter saved by ``report.save_pretrained`` (ours or peft's format) to ``model``; see
    :mod:`peftref_kb.reference.checkpoint`."""
    from .reference.checkpoint import load_adapter as _load_adapter

    return _load_adapter(model, directory, at=at, **hyperparameters)
