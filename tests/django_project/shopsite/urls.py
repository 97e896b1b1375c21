"""The test shop serves no pages; Django still wants a URLconf."""
urlpatterns = []
