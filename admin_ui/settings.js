// The page members are sent to: it says why, once.
const reasons = {
  "admins-only": "The Audit Log is only available to ORG Admins of your organisation.",
};
const reason = new URLSearchParams(location.search).get("reason");
const notice = document.getElementById("notice");
if (reason && reasons[reason]) {
  notice.textContent = reasons[reason];
  notice.hidden = false;
}
