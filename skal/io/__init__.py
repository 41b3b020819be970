"""Files of an active-learning campaign: the durable label journal and pool fingerprints.

The save-file format of :meth:`skal.ActiveLearningClassifier.save` lives here too, private
(``_archive``: the format; ``_bounded``: reading untrusted archives within limits); it reads
and writes plain data and knows nothing of the learner.
"""

from skal.io.journal import (
    JournalNotFoundError,
    JournalNotWritableError,
    LabelJournal,
    pool_fingerprint,
)

__all__ = ["JournalNotFoundError", "JournalNotWritableError", "LabelJournal",
           "pool_fingerprint"]
