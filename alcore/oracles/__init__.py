"""Oracles: whoever supplies a label when a strategy asks for one (see ``alcore.oracles.base`` for the contract).

Registered: ``dataset`` (precomputed labels, the benchmark setting) and ``ase-calculator`` (any ASE calculator by name:
EMT, Lennard-Jones, Morse, CHGNet). The loop only ever asks for structures it has not labelled yet.
"""

from alcore.oracles.base import (
    ORACLES,
    PROPERTIES,
    Oracle,
    OracleError,
    is_precomputed,
    labelled_by,
    make_oracle,
    oracle_name,
)

from alcore.oracles.dataset import DatasetOracle  # isort: skip  (registered first: the default is listed first)
from alcore.oracles.calculator import CALCULATORS, AseCalculatorOracle, single_point
from alcore.oracles.labels import Labels, labels_from_json, labels_to_json
from alcore.oracles.recorded import Recorded, with_known

__all__ = [
    "CALCULATORS", "ORACLES", "PROPERTIES", "AseCalculatorOracle", "DatasetOracle", "Labels", "Oracle", "OracleError",
    "Recorded", "is_precomputed", "labelled_by", "labels_from_json", "labels_to_json", "make_oracle", "oracle_name",
    "single_point", "with_known",
]  # fmt: skip
