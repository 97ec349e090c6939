from moviie.errors import NotFound


class CollectionNotFound(NotFound):
    code = "collection_not_found"
