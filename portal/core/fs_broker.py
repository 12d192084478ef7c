"""kombu's filesystem transport, with atomic message writes (the embedded demo/test broker).

kombu's own `_put` creates the message file in the queue folder and then
writes it; a worker polling the folder can take the file in between and read
an empty message, which stops the worker ("Unrecoverable error:
JSONDecodeError"). Here each message is written in full to a staging folder
on the same filesystem and then renamed into the queue folder, which is
atomic: a reader sees a complete message or none.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

ALIAS = "portalfs"


class Channel(filesystem.Channel):
    # kombu's stubs name the message `message` in the virtual channel and `payload` in the
    # filesystem one, so no signature satisfies both; kombu passes both positionally.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staging = os.path.join(os.path.dirname(os.path.abspath(self.data_folder_out)), "staging")
        os.makedirs(staging, exist_ok=True)
        temporary = os.path.join(staging, name)
        try:
            with open(temporary, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise ChannelError(f"Cannot add message {name!r} to the broker folder") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES[ALIAS] = "portal.core.fs_broker:Transport"
# Celery takes CELERY_BROKER_URL from the environment over its configuration, so a process
# started with CELERY_BROKER_URL=filesystem:// would get kombu's own, non-atomic transport:
# in every process that imports the kernel, filesystem:// means this one too.
TRANSPORT_ALIASES["filesystem"] = "portal.core.fs_broker:Transport"
