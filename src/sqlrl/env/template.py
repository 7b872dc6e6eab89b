"""A tool-calling chat template for the tiny model, in the format TRL parses (Qwen's ``<tool_call>`` tags).

TRL's multi-turn GRPO needs three things from the tokenizer: a chat template that renders assistant
tool calls and tool results (``trl.chat_template_utils.supports_tool_calling``), one that is
prefix-preserving (a conversation renders as a prefix of itself plus more messages), and a response
parser that turns generated tokens back into ``tool_calls`` (``tokenizer.response_template``; TRL's
``add_response_schema`` sets one only for the chat templates it knows, exactly as those models ship
them). The tiny model's ChatML template has none of this, so :func:`prepare_tool_tokenizer` gives it
:data:`TOOL_CHAT_TEMPLATE` and TRL's Qwen3 response template:

- messages without tools render exactly as the tiny model's :data:`~sqlrl.models.tiny.CHAT_TEMPLATE`
  (a model trained single-turn sees the same tokens);
- an assistant tool call renders as ``<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>``
  inside the assistant turn, a tool result as a user turn ``<tool_response>\\n...\\n</tool_response>``
  (as Qwen2.5 does; :mod:`sqlrl.env.episodes` writes the same text for any chat model);
- the tools are not listed by the template: :class:`~sqlrl.env.SqlEnvironment`'s ``reset`` appends a
  short help to the question (keeping the tiny model's prompts short).

A model whose template TRL already knows (Qwen2.5, Qwen3, Llama 3.1, ...) keeps its own.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TOOL_CHAT_TEMPLATE", "prepare_tool_tokenizer"]

TOOL_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'tool' %}"
    "{{ '<|im_start|>user\n<tool_response>\n' + message['content'] + '\n</tool_response><|im_end|>' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] or '' }}"
    "{% for call in message.get('tool_calls') or [] %}"
    "{% set fn = call['function'] if call['function'] is defined else call %}"
    "{% if loop.first and message['content'] %}{{ '\n' }}{% endif %}{% if not loop.first %}{{ '\n' }}{% endif %}"
    "{{ '<tool_call>\n{\"name\": \"' + fn['name'] + '\", \"arguments\": ' }}"
    "{% if fn['arguments'] is string %}{{ fn['arguments'] }}{% else %}{{ fn['arguments'] | tojson }}{% endif %}"
    "{{ '}\n</tool_call>' }}"
    "{% endfor %}"
    "{{ '<|im_end|>' }}{% endgeneration %}"
    "{% else %}{{ message['content'] + '<|im_end|>' }}{% endif %}"
    "{% endif %}"
    "{{ '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def prepare_tool_tokenizer(tokenizer: Any) -> Any:
    """``tokenizer`` ready for TRL's tool loop: kept when TRL can already render and parse its tool calls;
    the tiny model's ChatML template (or none) replaced by :data:`TOOL_CHAT_TEMPLATE` with TRL's Qwen3
    response parser; any other template that cannot render tool calls raises ``ValueError`` saying so."""
    from trl.chat_template_utils import add_response_schema, qwen3_template, supports_tool_calling

    from sqlrl.models.tiny import CHAT_TEMPLATE

    if tokenizer.chat_template in (None, CHAT_TEMPLATE, TOOL_CHAT_TEMPLATE):
        tokenizer.chat_template = TOOL_CHAT_TEMPLATE
        tokenizer.response_template = qwen3_template
        return tokenizer
    if not supports_tool_calling(tokenizer):
        raise ValueError(
            "the model's chat template cannot render tool calls and tool results, so it cannot be trained on "
            "interactive episodes; use a model whose template supports tools (Qwen2.5, Qwen3, Llama 3.1, ...) "
            "or the tiny model"
        )
    if getattr(tokenizer, "response_template", None) is None and getattr(tokenizer, "response_schema", None) is None:
        try:
            add_response_schema(tokenizer)
        except ValueError as e:
            raise ValueError(f"TRL cannot parse this model's tool calls: {e}") from None
    return tokenizer
