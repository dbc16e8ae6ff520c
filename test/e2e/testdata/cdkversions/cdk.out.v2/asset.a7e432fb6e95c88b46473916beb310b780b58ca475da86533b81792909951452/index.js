// Release v2: answers which release it is.
exports.handler = async () => ({ release: "v2" });
