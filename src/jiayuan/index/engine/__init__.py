"""The community governance index engine (社区治理指数): pure Python + numpy, no Django.

Entry point: :func:`compute_index` over a :class:`Panel` with a :class:`Catalogue`; analysis
(correlations, Cronbach's alpha, Monte Carlo rank intervals, explanations) in
:mod:`.analysis`. The method and its sources: ``docs/index-method.md``.
"""

from .aggregate import Aggregated, aggregate, structure
from .catalogue import (
    COMPOUND_TYPES,
    DIMENSIONS,
    SUBINDICES,
    Catalogue,
    Indicator,
    catalogue_from_rows,
    default_catalogue,
    leaf_points,
    read_catalogue,
)
from .compute import ComputeOptions, IndexResult, Panel, compute_index, normalise_values
from .errors import (
    CatalogueInvalid,
    IndexEngineError,
    OptionInvalid,
    PanelInvalid,
    ThresholdsInvalid,
)
from .thresholds import cochran_sample_size, push_outward, simple_moving_average

__all__ = [
    "COMPOUND_TYPES",
    "DIMENSIONS",
    "SUBINDICES",
    "Aggregated",
    "Catalogue",
    "CatalogueInvalid",
    "ComputeOptions",
    "IndexEngineError",
    "IndexResult",
    "Indicator",
    "OptionInvalid",
    "Panel",
    "PanelInvalid",
    "ThresholdsInvalid",
    "aggregate",
    "catalogue_from_rows",
    "cochran_sample_size",
    "compute_index",
    "default_catalogue",
    "leaf_points",
    "normalise_values",
    "push_outward",
    "read_catalogue",
    "simple_moving_average",
    "structure",
]
