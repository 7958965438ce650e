"""Payment's HTTP edge: the gateways' notifications, the citizen's payment page, and the officials'
counter payments and reconciliations."""

from .notifications import router as notifications
from .officials import router as officials
from .page import router as page

routers = [notifications, page, officials]
