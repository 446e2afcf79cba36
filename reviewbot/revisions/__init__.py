"""Revision-aware review: vN-1 found, its patches matched with vN's, the reviewers'
comments on it and what vN did with them, trailers carried or lost.

``previous`` finds vN-1 among mails, ``lookup`` decides where to look (the input, a
fetched thread, one search on a server), ``match`` pairs the patches (range-diff),
``comments`` reads the inline comments of the replies, ``answers`` the author's answers,
``fate`` decides each comment's verdict, ``trailers`` checks the trailers; ``review``
composes them into a ``RevisionReview`` (``model``).
"""
