from bench.graphql_vs_rest.run import main

main()
