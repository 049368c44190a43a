from __future__ import annotations

from dataclasses import dataclass

import pytest

from jiayuan.cases.routing.classifier import TextClassifier
from jiayuan.cases.routing.synthetic import LabelledText, generate


@dataclass
class Trained:
    model: TextClassifier
    train: list[LabelledText]
    test: list[LabelledText]


@pytest.fixture(scope="session")
def trained() -> Trained:
    """A classifier fitted on 4,000 synthetic work orders; 1,000 more held out (other seed)."""
    train = generate(4000, seed=11, label_noise=0.02)
    test = generate(1000, seed=12)
    model = TextClassifier().fit([r.text for r in train], [r.label for r in train])
    return Trained(model, train, test)
