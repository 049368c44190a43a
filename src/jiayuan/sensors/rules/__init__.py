"""The pure rule core of the sensors app: rule data (``model``), the device-kind catalogue
(``catalogue``) and the evaluator (``engine``). No Django imports anywhere below here."""
