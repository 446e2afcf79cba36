"""bot stage: ``reviewbot watch`` — mailbox-triggered review, exactly one reply per series.

``sources`` reads new messages (Maildir, lore), ``trigger`` groups them into series and
decides when one is due, ``policy`` says what to review and who gets replies, ``state``
keeps everything in SQLite, ``outbox`` writes drafts or sends, ``watch`` runs the loop.
"""
