"""What every module's GraphQL face uses: context, permissions, typed errors, enums, the filter
bridge, node, cursors, loaders, input checks, error masking, live execution. Imports no module."""
