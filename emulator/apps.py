from django.apps import AppConfig


class EmulatorConfig(AppConfig):
    """The Twilio emulator. An app only so that its management commands are found; it has no
    models and imports nothing of the project's apps."""

    name = "emulator"
    verbose_name = "Twilio emulator"
