"""Sensors: devices, readings, rules, alarms and device health.

This package holds the pure parts (no Django): ``messages`` (MQTT topic and payload),
``rules`` (rule data, catalogue, evaluator), ``health`` (silence, impossible values),
``cap`` (OASIS CAP 1.2 XML) and ``ngsi`` (NGSI-LD Device/Alert JSON). See docs/sensors.md.
"""
