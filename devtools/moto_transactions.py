"""moto's TransactWriteItems made to cost what DynamoDB's does: nothing per stored item.

moto prepares its rollback by deep-copying every table a transaction touches, once per
item of the transaction, before applying any: 0.5 ms per stored item, so a transaction
on a ledger of 20,000 items took seconds and a sealing test grew quadratically. This
keeps moto's own transaction code (conditions, ordering, errors, stream records) and
its all-or-nothing outcome, but snapshots only the items the transaction names and
restores those (and the stream records written meanwhile) when it is cancelled.

    python -m devtools.moto_transactions -H 0.0.0.0 -p 5000   # moto server, patched

Tests, the benchmarks and the local stack install it; the service never imports it.
"""

import copy
import sys
from typing import Any

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Any, Any, Any, Any]] = []
        streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            attributes = op.get("Item" if op_type == "Put" else "Key") or {}
            names = [table.hash_key_attr, table.range_key_attr] if table is not None else []
            if table is None or any(name and name not in attributes for name in names):
                continue  # moto refuses the item itself before writing anything for it
            hash_key, range_key = self.get_keys_value(table, {name: attributes[name] for name in names if name})
            saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
            if table.stream_shard is not None:
                streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                _restore(table, hash_key, range_key, item)
            for shard, length in streams.values():
                del shard.items[length:]
            raise

    # moto's own snapshot becomes the table itself; the rollback above replaces it.
    Table.__deepcopy__ = lambda table, _memo: table  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _INSTALLED = True


def _restore(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    partition = table.items[hash_key]
    if item is None:
        partition.pop(range_key, None)
    else:
        partition[range_key] = item


if __name__ == "__main__":
    install()
    from moto.server import main

    main(sys.argv[1:])
