"""Collaboration on records: feeds (posts and comments), @mentions and follows.

Others may import the extension (``assembly`` attaches it), the feed functions the API
and the pages call, follows, and the tables (for the migration's checks).
"""

from . import feed, follows
from .extension import CollabExtension
from .mentions import MAX_BODY
from .tables import collab_metadata, feed_posts, record_follows

__all__ = [
    "MAX_BODY",
    "CollabExtension",
    "collab_metadata",
    "feed",
    "feed_posts",
    "follows",
    "record_follows",
]
