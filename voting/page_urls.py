"""Page routes of the public contract (section 2)."""

urlpatterns = []
