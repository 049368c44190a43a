"""Deliberation and self-governance (零距离家园理事会): councils, topics, consultations, votes.

For now only the pure engines live here: ``rules`` (written consent and owners' decisions under
PRC Civil Code art. 278) and ``progress`` (project progress and the self-governance grant
ledger). They import no Django; the Django app (models, services) is added around them.
"""
