import os

from django.core.wsgi import get_wsgi_application

from config.services import start_embedded_services

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
start_embedded_services()
application = get_wsgi_application()
