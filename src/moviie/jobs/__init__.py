"""The durable job engine (DBOS) behind one small surface.

Domains write workflows and steps with `workflow`/`step` from here and enqueue them with
`enqueue_in`, inside the transaction that writes the rows the job concerns.
"""
