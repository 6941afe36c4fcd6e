"""Two-way sync between the merp cluster and an enterprise's own ERP database (seed 000,
fig. 8, claims 7-12).

Each side keeps its ERP tables and, per synced table, a mirror of the peer's copy
(`models.MirrorRow`: key, row hash, key hash, version, tombstone, sync flag). A scan
(`scan`: fast = key fields, full = all fields; keyset chunks, one database call each)
compares table and mirror and marks local inserts/updates/deletes dirty; the sender
(`sender`) claims dirty rows into a batch and sends it over three signed HTTP interfaces
(`http`, `client`, `signing`, with the replay memory in `nonces`):

    POST <base>/command  {"op": "heartbeat" | "open" | "close" | "digest" | "row_digests"}
    POST <base>/data     {"table", "batch", "seq", "rows": [{pk, values|null, base, changed_ms, force}]}
    POST <base>/result   {"batch", "seq"} -> {"results": [{pk, status, version, ...}]}

The receiver (`apply`) applies each chunk once (repeats answered from `sync_chunks`) as
upserts and updates its mirror in the same transaction, so nothing echoes back; a chunk is
one read of the mirror, one of the table, and executemany writes (`bulk`). Conflicts
(both sides changed a row) are decided on the cluster only, by the table's rule, and logged
(`sync_conflicts`); manual ones wait for `conflicts.resolve`. `peer.SyncPeer` drives
heartbeats, cycles, alarms (`alarms`: peer down, peer silent, lag, refused rows, conflicts;
SMS to the enterprise's administrators on the cluster) and the digest-based full sync
(`digest`); `agent` is `merp agent -c agent.ini`, `cluster` the gateway's side
([sync] peers = FILE).

Modules: spec (table specs, row fingerprints), source / cluster_tables (reading and writing
a table in canonical fields), rawsql, models, scan, sender, apply (bulk: its executemany
writes), conflicts, digest, side (one side's blocking operations), wire (JSON/XML bodies),
http, client, signing, nonces, peer, alarms, settings (ini files), agent, cluster, threads,
example (an enterprise schema), clock.
"""
