from shop.selectors import cart_count
from shop.services.carts import cart_for


def cart_summary(request):
    if request.path.startswith(("/admin/", "/api/", "/static/", "/media/")):
        return {}
    cart = cart_for(user=request.user, session=request.session, create=False)
    return {"cart_count": cart_count(cart=cart)}
