"""grpo-lead: GRPO-LEAD (Zhang & Zuo, EMNLP 2025) on Hugging Face TRL.

Pure pieces import without torch-heavy trainer code; the trainer is imported lazily.
"""

from __future__ import annotations

__version__ = "0.1.0"
