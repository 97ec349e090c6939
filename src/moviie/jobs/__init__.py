"""The durable job engine (DBOS) behind one small surface.

Domains decorate their workflows and steps with DBOS's `@DBOS.workflow()` / `@DBOS.step()` in
their `tasks.py`, reach shared parts through `jobs.runtime`, and enqueue with
`JobClient.enqueue_in`, inside the transaction that writes the rows the job concerns. Launching,
queues, recovery and heartbeats stay here.
"""
