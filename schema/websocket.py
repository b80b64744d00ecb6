from strawberry.channels import GraphQLWSConsumer


class GraphQLWebSocketConsumer(GraphQLWSConsumer):
    pass
