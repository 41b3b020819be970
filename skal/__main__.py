from skal.cli import main

raise SystemExit(main())
