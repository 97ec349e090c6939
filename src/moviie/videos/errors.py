from moviie.errors import NotFound


class VideoNotFound(NotFound):
    code = "video_not_found"
