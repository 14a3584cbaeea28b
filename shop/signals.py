"""What the shop tells other apps about its products. Receivers only call a service.

Both signals are sent inside the transaction that made the change, with ``product=``: a receiver's
own writes commit or roll back with it, and it queues any work with ``transaction.on_commit``
(``core.dispatch.enqueue_on_commit``), so a rolled-back change queues nothing.
"""

from django.dispatch import Signal

#: A product's photo was stored or replaced, or a curator asked for it to be processed again.
product_photo_changed = Signal()

#: A curator set a product's colours and pattern, or handed them back to the measurement.
product_colours_changed = Signal()
