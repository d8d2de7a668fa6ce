"""Rewards (the catalogue, redeem with a confirm step) and the resident's vouchers (a QR and
the typed code, large, counting down to their expiry; cancel with a confirm step)."""
from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext

from ecolife.errors import DomainError
from ecolife.extensions import db
from ecolife.pagination import paginate
from ecolife.rewards import redemptions, service as rewards
from ecolife.users import service as users
from ecolife.web.forms import FormErrors, one_time_key
from ecolife.web.pages import page_parameters, pager
from ecolife.web.residents import moves
from ecolife.web.session import current_web_user, page_roles_required

blp = Blueprint("vouchers", __name__)
resident_page = page_roles_required("resident")


@blp.get("/rewards")
@resident_page
def catalogue():
    """What the points buy now, cheapest first, with what is left of each."""
    user = current_web_user()
    parameters = page_parameters()
    rows = paginate(rewards.list_query(user), parameters)
    return render_template("web/residents/rewards.html", rewards=rows, pager=pager(parameters),
                           balance=users.describe(user)["balance"])


@blp.get("/rewards/<int:reward_id>")
@resident_page
def confirm_redeem(reward_id):
    """The confirm step: the reward, its cost, the balance after."""
    user = current_web_user()
    reward = rewards.get_reward(user, reward_id)
    return render_template("web/residents/redeem.html", reward=reward, key=moves.new_key(),
                           balance=users.describe(user)["balance"])


@blp.post("/rewards/<int:reward_id>")
@resident_page
def redeem(reward_id):
    """Spend the points: one voucher, however often the button is pressed."""
    try:
        voucher_id = moves.redeem(current_web_user(), reward_id, one_time_key())
    except FormErrors:
        return _refused(DomainError(gettext("This form has expired. Go back, reload the page "
                                            "and try again."), status=422),
                        url_for("vouchers.confirm_redeem", reward_id=reward_id))
    except DomainError as exc:
        return _refused(exc, url_for("vouchers.catalogue"))
    flash(gettext("Your voucher is ready. Show it at the counter."))
    return redirect(url_for("vouchers.voucher", redemption_id=voucher_id))


@blp.get("/vouchers")
@resident_page
def vouchers():
    """The resident's vouchers, newest first."""
    parameters = page_parameters()
    rows = paginate(redemptions.my_redemptions_query(current_web_user()), parameters)
    return render_template("web/residents/vouchers.html", vouchers=rows, pager=pager(parameters))


@blp.get("/vouchers/<int:redemption_id>")
@resident_page
def voucher(redemption_id):
    """One voucher to show at the counter: its QR, its code, its expiry."""
    redemption = redemptions.get_redemption(current_web_user(), redemption_id)
    return render_template("web/residents/voucher.html", voucher=redemption)


@blp.get("/vouchers/<int:redemption_id>/qr.png")
@resident_page
def voucher_qr(redemption_id):
    """The QR the counter scans (only while the voucher can be used: the service decides)."""
    png = redemptions.voucher_qr(current_web_user(), redemption_id)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, no-store"})


@blp.get("/vouchers/<int:redemption_id>/cancel")
@resident_page
def confirm_cancel(redemption_id):
    """The confirm step of a cancel."""
    redemption = redemptions.get_redemption(current_web_user(), redemption_id)
    return render_template("web/residents/cancel.html", voucher=redemption, key=moves.new_key())


@blp.post("/vouchers/<int:redemption_id>/cancel")
@resident_page
def cancel(redemption_id):
    """Cancel the voucher: its points come back."""
    back = url_for("vouchers.voucher", redemption_id=redemption_id)
    try:
        moves.cancel(current_web_user(), redemption_id, one_time_key())
    except FormErrors:
        return _refused(DomainError(gettext("This form has expired. Go back, reload the page "
                                            "and try again."), status=422), back)
    except DomainError as exc:
        return _refused(exc, back)
    flash(gettext("Voucher cancelled: your points are back."))
    return redirect(back)


def _refused(exc, back):
    db.session.rollback()
    body = render_template("web/residents/refused.html", message=gettext(exc.message),
                           error=exc.error, back=back)
    return body, exc.status
