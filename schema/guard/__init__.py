"""The gateway's guard for the open internet: what a document may ask for, what it costs, and
how much each client may spend.

- document_limits.py: depth, aliases and directives, measured in time linear in the document;
- cost.py: an operation's requested cost before it runs and its actual cost after (the IBM cost
  directives `@cost` and `@listSize`, as Apollo and Hive implement them);
- budgets.py: a leaky bucket of cost points per client, in Redis or in process memory;
- extension.py: the schema extension that applies them to every operation and reports
  `extensions.cost`.
"""
