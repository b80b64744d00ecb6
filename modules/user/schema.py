Query = None
Mutation = None
Subscription = None
