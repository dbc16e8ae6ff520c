// Package topics owns Amazon SNS's use cases over the store — topics, subscriptions and their confirmation,
// publishing — and the delivery of every message: a durable queue of deliveries, each attempted by the node
// leading the `sns` job, signed as SNS signs (signing.go), retried on the subscription's delivery policy, and
// dropped only once delivered, given up on, or orphaned by its subscription's deletion. The rules are package
// sns's; the wire is internal/api/snsapi's.
//
// # Store layout
//
//	sns/topic/<name>               topic: ARN, attributes, tags
//	sns/sub/<topic>/<id>           subscription: protocol, endpoint, pending confirmation and its token, attributes
//	sns/due/<due>-<id>             delivery, keyed by when its next attempt is due (Unix nanoseconds, 20 digits):
//	                               a confirmation request or a message for one subscription
//	sns/queue                      how many deliveries wait, and their bytes: Publish refuses past the bound
//	sns/sent/<message ID>          when PublishOnce sent a message (kept a day): a second call sends nothing
//
// Publish commits one delivery per confirmed subscription and the queue's count in one transaction before it
// answers, so a message survives kill -9 from the moment its MessageId is returned, and the publisher never
// waits on an endpoint. An attempt's outcome moves its delivery to its next due key, or removes it, in one
// transaction, after checking it is still at the key it was read from.
package topics
