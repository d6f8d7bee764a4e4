"""The verifiable ledger: each organisation's log as an RFC 9162 Merkle tree.

`hashing` holds the tree's mathematics (leaf and node hashes, roots, inclusion and
consistency proofs and their verification), apart from how the tree's hashes are stored
and how its checkpoints are signed.
"""
