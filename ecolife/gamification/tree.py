"""The community hierarchy in memory: one query, then chains, subtrees and rollups for free.

A province has a few hundred communities (Lamphun: 8 districts, 51 tambons, ~550 villages),
so loading them all is cheaper than walking the tree row by row.
"""
from collections import defaultdict
from typing import NamedTuple

from sqlalchemy import select

from ecolife.communities.models import KINDS, Community
from ecolife.extensions import db


class Node(NamedTuple):
    id: int
    name: str
    kind: str
    parent_id: int | None


class CommunityTree:
    def __init__(self, nodes):
        self.nodes = {node.id: node for node in nodes}
        self.children = defaultdict(list)
        for node in sorted(self.nodes.values()):
            if node.parent_id is not None:
                self.children[node.parent_id].append(node.id)

    def __contains__(self, community_id):
        return community_id in self.nodes

    def chain(self, community_id):
        """The community and every one above it, nearest first: [village, ..., province]."""
        ids = []
        while community_id in self.nodes and len(ids) < len(KINDS):  # a bound, whatever the data
            ids.append(community_id)
            community_id = self.nodes[community_id].parent_id
        return ids

    def ancestor_of_kind(self, community_id, kind):
        """The community of ``kind`` that ``community_id`` is (or sits under), else None."""
        for cid in self.chain(community_id):
            if self.nodes[cid].kind == kind:
                return cid
        return None

    def subtree(self, community_id):
        """The community and everything below it, parents before children."""
        ids, todo = [], [community_id]
        while todo:
            cid = todo.pop()
            ids.append(cid)
            todo.extend(reversed(self.children.get(cid, ())))
        return ids

    def of_kind(self, kind):
        return [node.id for node in sorted(self.nodes.values()) if node.kind == kind]


def load_tree():
    """Every community, in one query."""
    rows = db.session.execute(
        select(Community.id, Community.name, Community.kind, Community.parent_id)
    ).all()
    return CommunityTree(Node(*row) for row in rows)
