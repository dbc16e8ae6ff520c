// Release v1: answers which release it is.
exports.handler = async () => ({ release: "v1" });
