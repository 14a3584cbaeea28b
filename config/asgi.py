import os

from django.core.asgi import get_asgi_application

from config.services import start_embedded_services

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
start_embedded_services()
application = get_asgi_application()
