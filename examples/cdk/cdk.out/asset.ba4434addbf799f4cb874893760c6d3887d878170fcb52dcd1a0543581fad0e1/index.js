// The orders function of the canary walkthrough (README.md): it validates an order and prices it.
//
// RELEASE is the one line to change between deploys; each value is a new deployment package, so a new version:
//
//   "v1"  validates the order and answers {orderId, status, total}
//   "v2"  the same, plus a harmless new field, currency
//   "v3"  defective: its new multi-line discount reads order.promotion.code, which most orders do not have, so
//         it throws on every order of more than one line. The hooks' smoke test sends a one-line order and
//         passes; only the errors alarm, watching real traffic through the alias, can catch it.
const RELEASE = "v1";

const crypto = require("node:crypto");

exports.handler = async (event) => {
  // Through the function URL (the stack's OrdersUrl output) the order is the request's JSON body; invoked directly
  // (aws lambda invoke, the hooks) it is the event itself.
  const order = event?.requestContext?.http ? fromBody(event) : event;
  const orderId = typeof order?.orderId === "string" && order.orderId !== "" ? order.orderId : crypto.randomUUID();

  const problems = validate(order);
  if (problems.length > 0) {
    // A bad order is the caller's mistake, not a function error: it is answered, not thrown, so that it does not
    // count in the AWS/Lambda Errors metric the deployment alarm watches.
    return { orderId, status: "REJECTED", total: 0, problems };
  }

  let cents = 0;
  for (const item of order.items) {
    cents += item.quantity * Math.round(item.unitPrice * 100);
  }
  if (RELEASE === "v3" && order.items.length > 1) {
    cents -= multiLineDiscount(order.promotion.code, cents); // the defect: promotion is optional
  }

  const answer = { orderId, status: "ACCEPTED", total: cents / 100 };
  if (RELEASE !== "v1") {
    answer.currency = "USD";
  }
  console.log(JSON.stringify({ release: RELEASE, orderId, lines: order.items.length, total: answer.total }));
  return answer;
};

// validate lists what is wrong with an order: it needs at least one line, each with a sku, a whole positive
// quantity and a non-negative unit price.
function validate(order) {
  if (order === null || typeof order !== "object" || !Array.isArray(order.items) || order.items.length === 0) {
    return ["items: at least one line is required"];
  }
  const problems = [];
  order.items.forEach((item, i) => {
    if (typeof item?.sku !== "string" || item.sku === "") {
      problems.push(`items[${i}].sku: required`);
    }
    if (!Number.isInteger(item?.quantity) || item.quantity < 1) {
      problems.push(`items[${i}].quantity: a whole number of at least 1`);
    }
    if (typeof item?.unitPrice !== "number" || !(item.unitPrice >= 0)) {
      problems.push(`items[${i}].unitPrice: a number of at least 0`);
    }
  });
  return problems;
}

// fromBody reads the order a function URL request carries as JSON (null when there is none, or it is not JSON).
function fromBody(request) {
  try {
    const body = request.body ?? "";
    return JSON.parse(request.isBase64Encoded ? Buffer.from(body, "base64").toString() : body);
  } catch {
    return null;
  }
}

// multiLineDiscount is v3's new rule: 5% off orders of several lines with a promotion code.
function multiLineDiscount(code, cents) {
  return code.startsWith("MULTI") ? Math.round(cents * 0.05) : 0;
}
