"""Refusals of the routing engine: stable codes, Chinese messages (see ``jiayuan.core.errors``)."""

from __future__ import annotations

from jiayuan.core.errors import DomainError, ValidationFailed


class ModelNotTrained(DomainError):
    """A classifier was asked to predict before it was fitted or loaded."""

    code = "model_not_trained"
    status = 409
    default_message = "分类模型尚未训练"


class ModelFileInvalid(ValidationFailed):
    """A model file is not one this platform wrote, or was written by another scikit-learn."""

    code = "model_file_invalid"
    default_message = "模型文件无效"


class TrainingDataInvalid(ValidationFailed):
    code = "training_data_invalid"
    default_message = "训练数据不足或有误"


class NoRouteFound(DomainError):
    """No routing rule covers the category and place: the case goes to manual triage."""

    code = "no_route"
    status = 422
    default_message = "没有适用的派单规则，请转人工分拨"


class RoutingTableInvalid(ValidationFailed):
    code = "routing_table_invalid"
    default_message = "派单规则表有误"
