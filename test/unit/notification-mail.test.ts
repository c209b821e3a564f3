/** The pure parts of notification e-mail: templates, retry policy, what reaches a log. */
import { renderMail, orderConfirmed } from "../../services/notifications/templates";
import { afterFailure, backoffMs, publicDelivery } from "../../services/notifications/delivery";
import { describeSendError, maskSmtpUrl, messageIdFor } from "../../services/notifications/mailer";
import { loadConfig } from "../../lib/config";

const order = {
  id: "o-1",
  items: [{ name: `<b>"Tom & Jerry"</b>`, quantity: 2, unitPrice: 1250, lineTotal: 2500 }],
  total: 2500,
  currency: "USD",
};

describe("notification mail templates", () => {
  it("shows the order's lines and total in both parts, escaped in the HTML", () => {
    const mail = renderMail(orderConfirmed("o-1", 2500, "USD"), "<Ann>", order);
    expect(mail.subject).toBe("Order o-1 confirmed");
    expect(mail.text).toContain(`2 x <b>"Tom & Jerry"</b> at 12.50 USD = 25.00 USD`);
    expect(mail.text).toContain("Total: 25.00 USD");
    expect(mail.html).toContain("&lt;b&gt;&quot;Tom &amp; Jerry&quot;&lt;/b&gt;");
    expect(mail.html).toContain("Hi &lt;Ann&gt;,");
    expect(mail.html).not.toMatch(/<b>|<Ann>/);
    expect(mail.html).toContain("25.00 USD");
  });
});

describe("mail retry policy", () => {
  const policy = { maxAttempts: 3, baseMs: 100, capMs: 250 };

  it("doubles the wait after each failure up to the cap", () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, policy))).toEqual([100, 200, 250, 250]);
  });

  it("keeps a delivery pending below the limit and fails it at the limit", () => {
    expect(afterFailure(2, "421 busy", 1_000, policy)).toMatchObject({
      "delivery.status": "pending",
      "delivery.nextAttemptAt": 1_200,
    });
    expect(afterFailure(3, "421 busy", 1_000, policy)).toMatchObject({
      "delivery.status": "failed",
    });
  });

  it("shows the customer no error text", () => {
    const view = publicDelivery({
      channel: "email",
      status: "failed",
      attempts: 3,
      lastError: "550 no such user at mx.internal",
      nextAttemptAt: 0,
      claimedUntil: 0,
    });
    expect(view).toEqual({ channel: "email", status: "failed", attempts: 3 });
  });
});

describe("mail settings and logs", () => {
  it("masks the SMTP password wherever the URL is shown", () => {
    expect(maskSmtpUrl("smtp://mailer:s3cret@mx.example.com:587")).toBe(
      "smtp://mailer:***@mx.example.com:587",
    );
    const err = Object.assign(new Error("connect ECONNREFUSED smtp://mailer:s3cret@mx:25"), {
      code: "ESOCKET",
    });
    expect(describeSendError(err)).not.toContain("s3cret");
  });

  it("derives the Message-ID from the notification id", () => {
    expect(messageIdFor("n-42")).toBe("<n-42@commerce-mesh>");
  });

  it("refuses SMTP_URL without MAIL_FROM, or with another scheme", () => {
    expect(() => loadConfig({ SMTP_URL: "smtp://mx:25" })).toThrow(/MAIL_FROM/);
    expect(() => loadConfig({ SMTP_URL: "http://mx", MAIL_FROM: "a@b.c" })).toThrow(/SMTP_URL/);
    expect(
      loadConfig({ SMTP_URL: "smtps://u:p@mx:465", MAIL_FROM: "a@b.c" }).notifications,
    ).toMatchObject({ maxAttempts: 8, mailFrom: "a@b.c" });
  });
});
