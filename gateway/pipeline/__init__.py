"""The durable message path on the Twisted side: inbox writer (group commit), dispatcher
(transactional outbox), outbox sender (window, retries), wired by `PipelineService`.

Nothing here builds SQL: every database step is an erpcore function run on the db
worker's thread pool (ARCHITECTURE.md, "Threads and the reactor").
"""
