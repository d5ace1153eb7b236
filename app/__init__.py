"""The HTTP edge of the sales API and its composition root (`app.factory.create_app`)."""
