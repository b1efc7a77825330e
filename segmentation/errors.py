"""The one exception the engine raises for problems a user can fix."""


class SegmentationError(ValueError):
    """A problem with the input or the settings, stated in one sentence a user can act on.

    The message says what is wrong and what to do about it; callers (the app,
    the command line) show it as it is, without a traceback.
    """
