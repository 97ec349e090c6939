from moviie.errors import Conflict, NotFound


class VideoNotFound(NotFound):
    code = "video_not_found"


class VideoNotReady(Conflict):
    code = "video_not_ready"
    title = "The video is not ready yet"
