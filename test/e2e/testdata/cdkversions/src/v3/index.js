// Release v3 is defective: it fails every invocation, so the errors alarm rolls its deployment back.
exports.handler = async () => {
  throw new Error("release v3 is defective");
};
